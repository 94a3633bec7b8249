using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Raworc.ApiService.Data.Migrations
{
    /// <inheritdoc />
    public partial class SessionTotals : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "session_totals",
                columns: table => new
                {
                    owner_key = table.Column<string>(type: "text", nullable: false),
                    total = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_session_totals", x => x.owner_key);
                });

            // The totals are kept by the database: every statement that inserts or deletes sessions adds its rows per owner,
            // in its own transaction, whatever wrote it. Upserts in key order, so two statements that touch several owners
            // lock their rows in the same order. Creating the triggers locks the table against writes until this migration
            // commits, so the totals written below count exactly the rows that exist when the triggers start counting.
            migrationBuilder.Sql("""
                CREATE FUNCTION session_owner_key(operator_id uuid, owner_type text, owner_name text) RETURNS text
                    LANGUAGE sql IMMUTABLE
                    AS $$ SELECT CASE WHEN operator_id IS NOT NULL THEN 'operator:' || operator_id::text
                                      ELSE 'name:' || owner_type || ':' || owner_name END $$;

                -- Statement-level, on the statement's rows (its transition table "changed"); the trigger's argument is the
                -- sign: 1 for inserted rows, -1 for deleted ones.
                CREATE FUNCTION session_totals_count() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO session_totals (owner_key, total)
                    SELECT session_owner_key(created_by_operator_id, created_by_type, created_by), TG_ARGV[0]::bigint * count(*)
                    FROM changed GROUP BY 1 ORDER BY 1
                    ON CONFLICT (owner_key) DO UPDATE SET total = session_totals.total + EXCLUDED.total;
                    RETURN NULL;
                END $$;

                CREATE FUNCTION session_totals_move() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO session_totals (owner_key, total)
                    SELECT key, change FROM (VALUES
                        (session_owner_key(OLD.created_by_operator_id, OLD.created_by_type, OLD.created_by), -1),
                        (session_owner_key(NEW.created_by_operator_id, NEW.created_by_type, NEW.created_by), 1)) AS m(key, change)
                    ORDER BY key
                    ON CONFLICT (owner_key) DO UPDATE SET total = session_totals.total + EXCLUDED.total;
                    RETURN NULL;
                END $$;

                CREATE FUNCTION session_totals_clear() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    DELETE FROM session_totals;
                    RETURN NULL;
                END $$;

                CREATE TRIGGER session_totals_insert AFTER INSERT ON sessions
                    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION session_totals_count('1');
                CREATE TRIGGER session_totals_delete AFTER DELETE ON sessions
                    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION session_totals_count('-1');
                -- Raworc never changes a session's owner; this keeps the totals right if anything else does. It fires only
                -- for an UPDATE that sets one of the three columns, so the state changes of every turn never run it.
                CREATE TRIGGER session_totals_update AFTER UPDATE OF created_by_operator_id, created_by_type, created_by ON sessions
                    FOR EACH ROW
                    WHEN (session_owner_key(OLD.created_by_operator_id, OLD.created_by_type, OLD.created_by)
                          IS DISTINCT FROM session_owner_key(NEW.created_by_operator_id, NEW.created_by_type, NEW.created_by))
                    EXECUTE FUNCTION session_totals_move();
                CREATE TRIGGER session_totals_truncate AFTER TRUNCATE ON sessions
                    FOR EACH STATEMENT EXECUTE FUNCTION session_totals_clear();

                INSERT INTO session_totals (owner_key, total)
                SELECT session_owner_key(created_by_operator_id, created_by_type, created_by), count(*)
                FROM sessions GROUP BY 1;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER session_totals_truncate ON sessions;
                DROP TRIGGER session_totals_update ON sessions;
                DROP TRIGGER session_totals_delete ON sessions;
                DROP TRIGGER session_totals_insert ON sessions;
                DROP FUNCTION session_totals_clear();
                DROP FUNCTION session_totals_move();
                DROP FUNCTION session_totals_count();
                DROP FUNCTION session_owner_key(uuid, text, text);
                """);
            migrationBuilder.DropTable(
                name: "session_totals");
        }
    }
}
