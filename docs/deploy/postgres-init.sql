-- Run once by the postgres image when its data folder is new: a database for Dagster's instance beside the `slo`
-- database the results store uses (POSTGRES_DB). Both belong to the `slo` user the compose file makes.
CREATE DATABASE dagster OWNER slo;
