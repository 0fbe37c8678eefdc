"""Who the customer is: phone + SMS code, home contract + ID document, and the check every account action makes."""
