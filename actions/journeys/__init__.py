"""One action module per journey, named after the intent that starts it (see README, "Journeys: one name in
every layer"); catalogue.py holds what the catalogue journeys share."""
