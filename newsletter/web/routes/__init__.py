"""One router per page family; ``newsletter.web.app`` includes them."""
