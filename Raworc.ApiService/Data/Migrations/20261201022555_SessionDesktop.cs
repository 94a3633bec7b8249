using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Raworc.ApiService.Data.Migrations
{
    /// <inheritdoc />
    public partial class SessionDesktop : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "desktop",
                table: "sessions",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "desktop",
                table: "sessions");
        }
    }
}
