"""MariaDB (and MySQL where the same SQL serves) through PyMySQL: connecting, the catalog, the
fixture text of each type, dumping rows, staged loading, verification and database copies.
Only this package imports pymysql."""
