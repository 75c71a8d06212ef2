"""Expression evaluation: vectorised over Arrow, or compiled to a row closure."""
