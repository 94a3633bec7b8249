using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Raworc.ApiService.Data.Migrations
{
    /// <inheritdoc />
    public partial class MessageIdempotencyKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "idempotency_key",
                table: "messages",
                type: "character varying(255)",
                maxLength: 255,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_messages_session_id_idempotency_key",
                table: "messages",
                columns: new[] { "session_id", "idempotency_key" },
                unique: true,
                filter: "idempotency_key IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_messages_session_id_idempotency_key",
                table: "messages");

            migrationBuilder.DropColumn(
                name: "idempotency_key",
                table: "messages");
        }
    }
}
