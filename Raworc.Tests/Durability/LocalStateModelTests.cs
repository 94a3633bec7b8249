using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Raworc.Tests.Durability;

/// <summary>What a local run keeps across restarts: its data volume and what it generates (README, "Local state").</summary>
public sealed class LocalStateModelTests
{
    /// <summary>
    /// Two runs of the AppHost on one user secrets store (a store of the test's own, named by <c>ASPIRE_USER_SECRETS_ID</c>,
    /// so the machine's store is not touched) get the same generated values: tokens signed in one run are valid in the
    /// next, and Postgres's password still opens the data volume.
    /// </summary>
    [Fact]
    public async Task GeneratedSecretsAreTheSameInTheNextRun()
    {
        var secretsId = $"raworc-test-{Guid.NewGuid():N}";
        try
        {
            var first = await GeneratedValuesAsync(secretsId);
            var second = await GeneratedValuesAsync(secretsId);
            Assert.Equal(first, second);
        }
        finally
        {
            var store = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".microsoft", "usersecrets", secretsId);
            if (Directory.Exists(store))
            {
                Directory.Delete(store, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("true", "raworc-postgres-data-15", "/var/lib/postgresql/data")]
    [InlineData("false", "raworc-postgres-data-18", "/var/lib/postgresql")]
    public async Task PostgresKeepsItsDataInANamedVolumeWhereTheImageInUseKeepsIt(string offline, string volume, string target)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Raworc_AppHost>(
            [$"--Raworc:OfflineImages={offline}"], cts.Token);
        var postgres = builder.Resources.OfType<PostgresServerResource>().Single();
        var mount = Assert.Single(postgres.Annotations.OfType<ContainerMountAnnotation>());
        Assert.Equal((ContainerMountType.Volume, volume, target, false), (mount.Type, mount.Source, mount.Target, mount.IsReadOnly));
    }

    [Fact]
    public async Task AnEmptyDataVolumeSettingRunsPostgresWithoutAVolume()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Raworc_AppHost>(
            ["--Raworc:OfflineImages=true", "--Raworc:DataVolume="], cts.Token);
        Assert.Empty(builder.Resources.OfType<PostgresServerResource>().Single().Annotations.OfType<ContainerMountAnnotation>());
    }

    /// <remarks>
    /// The values come from the AppHost's model, as a run resolves them (its configuration, user secrets included, else a
    /// value generated and saved to the store). The application is not built: building a testing builder runs the
    /// AppHost's <c>Run()</c>, which starts the whole system (DCP, containers, the API on port 9000), and a dispose that
    /// caught that start inside DCP's dependency check waited the host's 30-s shutdown timeout, DCP's client retrying a
    /// kubeconfig that never came. The builder is not disposed either: that too would let the suspended entry point build
    /// and run the AppHost.
    /// </remarks>
    private static async Task<Dictionary<string, string>> GeneratedValuesAsync(string secretsId)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Raworc_AppHost>(
            [$"--ASPIRE_USER_SECRETS_ID={secretsId}"], cts.Token);
        var values = new Dictionary<string, string>();
        foreach (var parameter in new[]
        {
            builder.Resources.OfType<ParameterResource>().Single(p => p.Name == ResourceNames.JwtSigningKey),
            builder.Resources.OfType<PostgresServerResource>().Single().PasswordParameter,
            builder.Resources.OfType<RedisResource>().Single().PasswordParameter!,
        })
        {
            // Compared by hash: a failing assertion prints what it compares.
            values[parameter.Name] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(await parameter.GetValueAsync(cts.Token) ?? "")));
        }
        return values;
    }
}
