using System.Runtime.InteropServices;
using VirtTools.Host.Shell;

namespace VirtTools.Host.Commands;

/// <summary>
/// `virttools -c '&lt;pipeline&gt;'` and `virttools -f script.ps1 [args]`: run, render output and errors in stream order,
/// exit non-zero on errors. SIGINT (Ctrl+C) and SIGTERM stop the running pipeline the way pwsh does — StopProcessing,
/// so a half-done passthrough rolls back — and the process exits with 130 or 143 once it has stopped.
/// </summary>
internal static class ShellCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error, TextReader? input)
    {
        if (args.Length < 2)
        {
            error.WriteLine($"virttools: {args[0]} needs an argument.");
            return 2;
        }
        var isFile = args[0] is "-f" or "-File" or "--file";
        if (isFile && !File.Exists(args[1]))
        {
            error.WriteLine($"virttools: the script file '{args[1]}' does not exist.");
            return 2;
        }
        var onConsole = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var width = onConsole ? Math.Max(80, SafeWindowWidth()) : 120;
        var host = new TextHost(output, error, width, input, isTerminal: onConsole);
        ShellSession session;
        try
        {
            session = new ShellSession(host);
        }
        catch (InvalidOperationException e)
        {
            error.WriteLine("virttools: " + e.Message);
            return 3;
        }
        using (session)
        using (var interrupt = new ShellInterrupt(session))
        {
            var result = isFile
                ? session.RunFile(args[1], args.Skip(2), render: true)
                : session.Run(string.Join(' ', args.Skip(1)), render: true);
            if (interrupt.ExitCode is int interrupted) return interrupted;
            if (result.Terminating is { } terminating) error.WriteLine(ErrorView.Describe(terminating.ErrorRecord));
            if (host.ExitCode is int requested) return requested;
            return result.Succeeded ? 0 : 1;
        }
    }

    private static int SafeWindowWidth()
    {
        try { return Console.WindowWidth; } catch (IOException) { return 120; }
    }

    /// <summary>
    /// SIGINT and SIGTERM while a session runs: the default termination is cancelled and the session stopped, so
    /// StopProcessing and rollbacks run. A second signal while stopping terminates as usual.
    /// </summary>
    private sealed class ShellInterrupt : IDisposable
    {
        private readonly ShellSession _session;
        private readonly PosixSignalRegistration _interrupt;
        private readonly PosixSignalRegistration _terminate;
        private int _exitCode;

        public ShellInterrupt(ShellSession session)
        {
            _session = session;
            _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, 130));
            _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, 143));
        }

        /// <summary>128 + the signal number when a signal stopped the session (the shell convention), else null.</summary>
        public int? ExitCode => Volatile.Read(ref _exitCode) is var code and > 0 ? code : null;

        private void Stop(PosixSignalContext context, int exitCode)
        {
            if (Interlocked.CompareExchange(ref _exitCode, exitCode, 0) != 0) return;
            context.Cancel = true;
            _session.Stop();
        }

        public void Dispose()
        {
            _interrupt.Dispose();
            _terminate.Dispose();
        }
    }
}
