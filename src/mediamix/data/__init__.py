"""mediamix.data"""
