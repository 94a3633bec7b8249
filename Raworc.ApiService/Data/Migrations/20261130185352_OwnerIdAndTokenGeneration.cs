using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Raworc.ApiService.Data.Migrations
{
    /// <inheritdoc />
    public partial class OwnerIdAndTokenGeneration : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "created_by_operator_id",
                table: "sessions",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "token_generation",
                table: "operators",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            // Backfill: an operator's session gets that operator's id, but only if the operator already existed when the
            // session was created. A session of an operator deleted and then recreated under the same name stays with no
            // owner (admins still see and delete it) instead of going to the newcomer.
            migrationBuilder.Sql("""
                UPDATE sessions AS s SET created_by_operator_id = o.id
                FROM operators AS o
                WHERE s.created_by_type = 'Operator' AND o.name = s.created_by AND o.created_at <= s.created_at
                """);

            migrationBuilder.CreateIndex(
                name: "ix_sessions_created_by_operator_id_created_at",
                table: "sessions",
                columns: new[] { "created_by_operator_id", "created_at" });

            migrationBuilder.AddForeignKey(
                name: "fk_sessions_operators_created_by_operator_id",
                table: "sessions",
                column: "created_by_operator_id",
                principalTable: "operators",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_sessions_operators_created_by_operator_id",
                table: "sessions");

            migrationBuilder.DropIndex(
                name: "ix_sessions_created_by_operator_id_created_at",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "created_by_operator_id",
                table: "sessions");

            migrationBuilder.DropColumn(
                name: "token_generation",
                table: "operators");
        }
    }
}
