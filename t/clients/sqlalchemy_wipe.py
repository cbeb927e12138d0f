"""What an ORM does when told to reset: SQLAlchemy's MetaData.drop_all()
or a bulk delete() without a filter.  Usage:
    sqlalchemy_wipe.py drop_all|delete_all DSN
Exits 1 with the database's error if the operation is refused."""
import sys

import sqlalchemy as sa

mode, dsn = sys.argv[1], sys.argv[2]
engine = sa.create_engine(dsn)
metadata = sa.MetaData()
metadata.reflect(bind=engine, only=["customers", "orders"])
try:
    with engine.begin() as conn:
        if mode == "drop_all":
            metadata.drop_all(bind=conn)
        else:
            conn.execute(metadata.tables["orders"].delete())
except sa.exc.DBAPIError as error:
    print(error.orig, file=sys.stderr)
    sys.exit(1)
print("done")
