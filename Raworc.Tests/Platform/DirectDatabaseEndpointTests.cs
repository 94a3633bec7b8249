using Aspire.Hosting.Testing;
using Docker.DotNet;
using Docker.DotNet.Models;
using Npgsql;
using Raworc.Tests.Infrastructure;
using StackExchange.Redis;

namespace Raworc.Tests.Platform;

/// <summary>
/// The API reaches Postgres and Redis at the port their containers are published on, not through Aspire's proxy (one
/// process fewer on every round trip; README "Benchmarks"): the port in each connection string the AppHost hands out is
/// the container's own published port, on 127.0.0.1 only, below the kernel's range for outgoing connections.
/// </summary>
[Collection(RaworcAppCollection.Name)]
public sealed class DirectDatabaseEndpointTests(RaworcAppFixture fixture)
{
    [Fact]
    public async Task PostgresAndRedisAreReachedAtTheirContainersPublishedPortsOnLoopback()
    {
        var database = new NpgsqlConnectionStringBuilder(await fixture.App.GetConnectionStringAsync(ResourceNames.Database));
        var redis = ConfigurationOptions.Parse((await fixture.App.GetConnectionStringAsync(ResourceNames.Redis))!);
        var redisPort = ((System.Net.DnsEndPoint)Assert.Single(redis.EndPoints)).Port;

        Assert.Equal(("127.0.0.1", 5432), await PublishedAsAsync(database.Port));
        Assert.Equal(("127.0.0.1", 6379), await PublishedAsAsync(redisPort));
        Assert.InRange(database.Port, 20000, 32767);
        Assert.InRange(redisPort, 20000, 32767);
    }

    /// <summary>The host address and the container port of the running container's binding of <paramref name="hostPort"/>, if any.</summary>
    private static async Task<(string HostIp, int ContainerPort)?> PublishedAsAsync(int hostPort)
    {
        using var docker = new DockerClientConfiguration(new Uri("unix:///var/run/docker.sock")).CreateClient();
        var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters());
        return containers.SelectMany(c => c.Ports ?? []).Where(p => p.PublicPort == hostPort && p.Type == "tcp")
            .Select(p => ((string HostIp, int ContainerPort)?)(p.IP, p.PrivatePort)).SingleOrDefault();
    }
}
