using System.Runtime.InteropServices;
using Raworc;
using Raworc.HostAgent;

// A plain program: no host, no DI container, no configuration framework, no console logger queue (each would stay in
// every idle computer's memory). The environment and the console are all the agent uses; SIGTERM (docker stop) or
// Ctrl+C stops the loop, which still reports idle if a turn was running.
// Before anything reads the Host token: from here on no other process of the computer can read this one's memory.
ProcessProtection.MakeNotDumpable();
using var stopping = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var log = new AgentLog();
try
{
    if (Raworc.HostAgent.Api.BootExchange.HasTicket)
    {
        // A computer started for its session: the ticket leaves this process's environment first (no tool inherits it),
        // then is exchanged once for the Host token (kept in memory, like a claim's) and, on a new volume, the seed files.
        var ticket = Raworc.HostAgent.Api.BootExchange.TakeTicket();
        var booting = HostAgentSetup.Prepare(AgentEnvironment.FromProcess(), log);
        var boot = await Raworc.HostAgent.Api.BootExchange.ExchangeAsync(booting, ticket, stopping.Token);
        await booting.Complete(AgentEnvironment.FromProcess(new Dictionary<string, string>
        {
            [HostAgentVariables.HostToken] = boot.HostToken,
        })).RunAsync(stopping.Token);
        return 0;
    }
    if (!Raworc.HostAgent.Api.PoolClaim.IsPooled)
    {
        await HostAgentSetup.Create(AgentEnvironment.FromProcess(), log).RunAsync(stopping.Token);
        return 0;
    }
    // A warm-pool computer takes its pool token, builds all of the agent that needs no session, then waits for the
    // session that claims it. The session's variables then join this process's environment, except the Host token,
    // which stays in memory only (the environment would hand it to every tool).
    var poolToken = Raworc.HostAgent.Api.PoolClaim.TakeToken();
    var prepared = HostAgentSetup.Prepare(AgentEnvironment.FromProcess(), log);
    var handover = await Raworc.HostAgent.Api.PoolClaim.WaitAsync(prepared, poolToken, stopping.Token);
    await prepared.Complete(AgentEnvironment.FromProcess(new Dictionary<string, string>
    {
        [HostAgentVariables.HostToken] = handover.HostToken,
        [HostAgentVariables.SessionId] = handover.SessionId,
    })).RunAsync(stopping.Token);
    return 0;
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or FormatException)
{
    // A setting is missing or malformed, or a warm computer left the pool: say which, without a stack trace.
    await Console.Error.WriteLineAsync($"The Host agent cannot run: {ex.Message}");
    return 1;
}

void Stop(PosixSignalContext context)
{
    // The loop ends by itself once cancelled; the process then exits from Main.
    context.Cancel = true;
    stopping.Cancel();
}
