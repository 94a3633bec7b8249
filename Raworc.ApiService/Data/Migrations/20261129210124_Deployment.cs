using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Raworc.ApiService.Data.Migrations
{
    /// <inheritdoc />
    public partial class Deployment : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // One row: this deployment's id, the label that scopes its containers and volumes on a shared engine.
            migrationBuilder.Sql("CREATE TABLE deployment (id text PRIMARY KEY)");
            migrationBuilder.Sql("INSERT INTO deployment (id) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 12))");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE deployment");
        }
    }
}
