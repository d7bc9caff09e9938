"""Business rules of the customer portal: plain Python, no UI, no database sessions."""
