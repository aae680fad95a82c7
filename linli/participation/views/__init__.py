"""Activity pages: residents on their phones, staff organising."""
