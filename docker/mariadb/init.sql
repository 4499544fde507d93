-- Run by mariadbd at every start (--init-file): root may log in without a password from any address of the
-- test's private network (the published port is bound to 127.0.0.1), and the tests' database exists.
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS queuebridge;
