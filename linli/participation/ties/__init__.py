"""Ties between people: the co-participation network of residents, and the vulnerable
residents with no tie (people to visit)."""
