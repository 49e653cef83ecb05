def build_report(con, sync_id):
    return None
def store_report(con, sync_id, report):
    pass
