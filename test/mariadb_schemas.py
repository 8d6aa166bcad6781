"""Small MariaDB schemas the suite builds: every hard case in a few tables."""

from __future__ import annotations

# Every value type of the fixture text, with values at the edges of each.
TYPES = (
    """CREATE TABLE every_type (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        ti TINYINT, si SMALLINT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
        dc DECIMAL(30,10), fl FLOAT, db DOUBLE,
        d DATE, dt DATETIME(3), dt0 DATETIME, ts TIMESTAMP(6) NULL, tm TIME(2), y YEAR,
        b1 BIT(1), b10 BIT(10), b64 BIT(64),
        c CHAR(5), vc VARCHAR(50), tx TEXT, l1 VARCHAR(20) CHARACTER SET latin1,
        bn BINARY(4), vb VARBINARY(10), bl BLOB,
        j JSON, e ENUM('small','large'), st SET('x','y','z'), p POINT,
        gen INT AS (ti * 2) VIRTUAL
    ) CHARACTER SET utf8mb4""",
    """INSERT INTO every_type (ti, si, bi, bu, dc, fl, db, d, dt, dt0, ts, tm, y, b1, b10, b64,
        c, vc, tx, l1, bn, vb, bl, j, e, st, p) VALUES
        (-128, 65535, -9223372036854775808, 18446744073709551615,
         12345678901234567890.0123456789, 0.1, 0.30000000000000004,
         '1000-01-01', '2024-01-02 03:04:05.678', '9999-12-31 23:59:59',
         '2038-01-19 03:14:07.999999', '-838:59:59.99', 1901, b'1', b'0000000101',
         b'1111111111111111111111111111111111111111111111111111111111111111',
         'ab', 'tab\\there\\nnew line \\\\ back', 'caf\u00e9 \U0001f3a8', 'd\u00e9j\u00e0',
         'ab', 'x\\0y', x'00ff10', '{"a": [1, 2.50], "b": "\\\\u00e9"}', 'large', 'z,x',
         POINT(1.5, -2)),
        (127, 0, 9223372036854775807, 0, -0.0000000001, 16777217, 1.7976931348623157e308,
         '2024-02-29', '1970-01-01 00:00:00.001', '2000-01-01 00:00:00',
         '1970-01-01 00:00:01.000000', '00:00:00.01', 2155, b'0', b'1111111111', b'0',
         '', '', '', '', x'00000000', '', '', '[]', 'small', '', NULL),
        (NULL, NULL, NULL, NULL, NULL, -3.4028234663852886e38, 2.2250738585072014e-308,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL),
        (0, 1, 1, 1, 1, 1.17549e-38, -1e-320, NULL, NULL, NULL, NULL, '838:59:59', 0,
         NULL, NULL, NULL, 'a\\rb', '\\\\N', '\\\\.', NULL, NULL, NULL, NULL, 'null',
         NULL, NULL, NULL)""",
)

# Composite and self-referencing keys, a foreign key to a unique key that is not the primary
# key, a two-table cycle of NOT NULL foreign keys, AUTO_INCREMENT, a table without a key.
RELATIONS = (
    """CREATE TABLE region (
        country CHAR(2) NOT NULL, code VARCHAR(10) NOT NULL, name VARCHAR(50) NOT NULL,
        PRIMARY KEY (country, code), UNIQUE KEY region_name (name))""",
    """CREATE TABLE office (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        country CHAR(2) NOT NULL, code VARCHAR(10) NOT NULL, region_name VARCHAR(50),
        CONSTRAINT office_region FOREIGN KEY (country, code) REFERENCES region (country, code),
        CONSTRAINT office_region_name FOREIGN KEY (region_name) REFERENCES region (name))""",
    """CREATE TABLE employee (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL,
        office_id INT NOT NULL, boss_id INT,
        CONSTRAINT employee_office FOREIGN KEY (office_id) REFERENCES office (id),
        CONSTRAINT employee_boss FOREIGN KEY (boss_id) REFERENCES employee (id))""",
    """CREATE TABLE author (
        id INT NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL, first_book_id INT NOT NULL)""",
    """CREATE TABLE book (
        id INT NOT NULL PRIMARY KEY, title VARCHAR(50) NOT NULL, author_id INT NOT NULL,
        CONSTRAINT book_author FOREIGN KEY (author_id) REFERENCES author (id))""",
    """ALTER TABLE author ADD CONSTRAINT author_first_book
        FOREIGN KEY (first_book_id) REFERENCES book (id)""",
    """CREATE TABLE note (office_id INT, body VARCHAR(100),
        CONSTRAINT note_office FOREIGN KEY (office_id) REFERENCES office (id))""",
    "SET SESSION FOREIGN_KEY_CHECKS = 0",
    """INSERT INTO region VALUES ('FR', '75', 'Paris'), ('FR', '13', 'Bouches'),
        ('DE', 'BE', 'Berlin'), ('de', 'by', 'bavaria')""",
    """INSERT INTO office VALUES (10, 'FR', '75', 'Paris'), (20, 'DE', 'BE', NULL),
        (7, 'de', 'by', 'bavaria')""",
    # The boss comes after the employees in key order: a load in key order needs the checks off.
    """INSERT INTO employee VALUES (1, 'Ann', 10, 5), (2, 'Bob', 20, 5), (5, 'Cleo', 10, NULL),
        (6, 'Dan', 7, 1)""",
    "INSERT INTO author VALUES (1, 'Austen', 100), (2, 'Bronte', 200)",
    "INSERT INTO book VALUES (100, 'Emma', 1), (200, 'Jane Eyre', 2), (101, 'Persuasion', 1)",
    """INSERT INTO note VALUES (10, 'same'), (10, 'same'), (NULL, 'no office'),
        (20, 'Zeta'), (20, 'alpha')""",
    "SET SESSION FOREIGN_KEY_CHECKS = 1",
)

# A BEFORE INSERT trigger that rewrites a value, an AFTER INSERT trigger that fills a table.
TRIGGERS = (
    """CREATE TABLE audit (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        event_id INT NOT NULL, note VARCHAR(50))""",
    """CREATE TABLE event (id INT NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL,
        created DATETIME NOT NULL, status VARCHAR(10))""",
    """CREATE TRIGGER event_stamp BEFORE INSERT ON event FOR EACH ROW
        SET NEW.created = '2001-01-01 00:00:00'""",
    """CREATE TRIGGER event_audit AFTER INSERT ON event FOR EACH ROW
        INSERT INTO audit (event_id, note) VALUES (NEW.id, 'inserted')""",
)
