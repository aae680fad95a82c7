from linli.testing.language import english_throughout  # noqa: F401 - autouse, all in English
