"""mediamix.jobs"""
