"""Background work: the one runner that claims, retries and recovers jobs, and the
health report over them.
"""
