"""The operator's figures (README "KPIs: definitions"): conversations read from Rasa's tracker store, with the
outcomes and NPS answers the actions recorded. `make kpi` (scripts/kpi.py) and the console's dashboard
(console/) both compute them here: `period` for one period from the raw events, `daily` for the per-day
aggregate the dashboard reads, `dashboard` for its charts."""
