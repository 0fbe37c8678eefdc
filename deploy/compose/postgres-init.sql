-- Run once by the postgres image on an empty volume: it creates `assistant` (POSTGRES_DB); Rasa's tracker gets `rasa`.
CREATE DATABASE rasa OWNER assistant;
