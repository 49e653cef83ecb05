"""mediamix.attribution"""
