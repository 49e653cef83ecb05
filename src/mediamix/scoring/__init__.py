"""mediamix.scoring"""
