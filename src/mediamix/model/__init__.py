"""mediamix.model"""
