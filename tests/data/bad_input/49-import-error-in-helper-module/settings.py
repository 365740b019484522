import os

DB_URL = os.environ["DB_URL"]
