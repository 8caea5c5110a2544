"""Route modules; web.composition lists which are mounted."""
