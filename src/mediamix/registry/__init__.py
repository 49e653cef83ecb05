"""mediamix.registry"""
