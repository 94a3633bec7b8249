using Raworc.Cli;

return await RaworcCli.RunAsync(args, CliConsole.System, CancellationToken.None);
