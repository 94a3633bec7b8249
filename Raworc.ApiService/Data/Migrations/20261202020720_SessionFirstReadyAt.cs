using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Raworc.ApiService.Data.Migrations
{
    /// <inheritdoc />
    public partial class SessionFirstReadyAt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "first_ready_at",
                table: "sessions",
                type: "timestamp with time zone",
                nullable: true);

            // Sessions that exist already: every one past init counts as booted (its first ready report, else the start of
            // its computer, else its creation), so no restore seeds again over what it changed in its files. Until the
            // boot ticket, volumes were seeded before the start anyway; the rare errored session whose first computer never
            // exchanged its ticket since then is counted too: better left without its seed than written over.
            migrationBuilder.Sql("""
                UPDATE sessions s
                SET first_ready_at = COALESCE(
                    (SELECT min(c.created_at) FROM state_changes c WHERE c.session_id = s.id AND c.state IN ('idle', 'busy')),
                    s.started_at, s.created_at)
                WHERE s.state <> 'init';
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "first_ready_at",
                table: "sessions");
        }
    }
}
