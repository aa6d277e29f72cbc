using System.Management.Automation;
using VirtTools.Host.Shell;

namespace VirtTools.Host.Commands;

/// <summary>`virttools -c '&lt;pipeline&gt;'` and `virttools -f script.ps1 [args]`: run, render, exit non-zero on errors.</summary>
internal static class ShellCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error, TextReader? input)
    {
        if (args.Length < 2)
        {
            error.WriteLine($"virttools: {args[0]} needs an argument.");
            return 2;
        }
        var width = Console.IsOutputRedirected ? 120 : Math.Max(80, SafeWindowWidth());
        var host = new TextHost(output, error, width, input);
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
        {
            var isFile = args[0] is "-f" or "-File" or "--file";
            if (isFile && !File.Exists(args[1]))
            {
                error.WriteLine($"virttools: the script file '{args[1]}' does not exist.");
                return 2;
            }
            var result = isFile
                ? session.RunFile(args[1], args.Skip(2), render: true)
                : session.Run(string.Join(' ', args.Skip(1)), render: true);
            foreach (var record in result.Errors) error.WriteLine(Describe(record));
            if (result.Terminating is { } terminating) error.WriteLine(Describe(terminating.ErrorRecord));
            if (host.ExitCode is int requested) return requested;
            return result.Succeeded ? 0 : 1;
        }
    }

    /// <summary>An error as a person reads it: the command, the message, and what to do about it.</summary>
    internal static string Describe(ErrorRecord record)
    {
        var command = record.InvocationInfo?.MyCommand?.Name;
        var message = record.ErrorDetails?.Message ?? record.Exception?.Message ?? record.ToString();
        var text = string.IsNullOrEmpty(command) ? message : $"{command}: {message}";
        text += $" [{record.FullyQualifiedErrorId}]";
        if (record.ErrorDetails?.RecommendedAction is { Length: > 0 } action) text += $"\n  Fix: {action}";
        return text;
    }

    private static int SafeWindowWidth()
    {
        try { return Console.WindowWidth; } catch (IOException) { return 120; }
    }
}
