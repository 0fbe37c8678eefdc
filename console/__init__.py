"""The operator console: a small authenticated web app (Sanic) for operator staff, with the KPI dashboard
(metrics/) and the campaign pages (the functions `python -m campaigns` uses). `python -m console serve` starts it;
`python -m console add-user NAME --role ROLE` creates a user. README: "Operator console"."""
