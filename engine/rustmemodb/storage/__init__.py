"""Storage: immutable table versions and the database root that maps names to them."""
