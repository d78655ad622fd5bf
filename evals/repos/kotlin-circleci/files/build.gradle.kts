plugins {
    kotlin("jvm") version "2.0.20"
    application
}

application {
    mainClass.set("inventory.MainKt")
}

tasks.register<Exec>("migrateDb") {
    group = "operations"
    description = "Apply database migrations to the environment given by -Penv."
    commandLine("./scripts/migrate.sh", project.findProperty("env")?.toString() ?: "local")
}

tasks.register("printVersion") {
    doLast { println(project.version) }
}
