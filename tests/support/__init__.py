"""What the tests share: real servers, fault proxies, JWT keys, fixtures and screen helpers."""
