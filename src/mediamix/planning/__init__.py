"""mediamix.planning"""
