"""Names of the groups created by accounts/migrations/0002_city_groups.py."""

CITY_ADMINS = "City admins"
CITY_STAFF = "City staff"
