"""koe's data model: SQLAlchemy tables, engines, migrations, and the functions that read and write them."""
