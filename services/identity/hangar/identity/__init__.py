"""hangar.identity: orgs, teams, users and their roles, and the access decisions that follow from them."""
