"""mediamix.insights"""
