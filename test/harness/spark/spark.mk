# Spark test world: included by the top-level Makefile.
#   make spark-env    install the pinned pyspark (a venv under $SPOTGUARD_CACHE; once per version)
#   make spark-world  the proof test alone: SIGPWR vs SIGKILL to an executor holding shuffle output
.PHONY: spark-env spark-world

SPARK_HARNESS := test/harness/spark

spark-env:
	@$(SPARK_HARNESS)/install.sh

spark-world: deps spark-env
	$(NODE) --test $(TEST_FLAGS) test/e2e/spark-world.test.ts
