"""The dialogue every journey relies on: the identity check and the line (account), journeys of several
turns (steps), matching typed answers to offered options (choices), and money moves confirmed by a yes
(operations)."""
