using VirtTools.Host.Commands;

namespace VirtTools.Host;

/// <summary>virttools: the VirtTools cmdlets where pwsh is not installed, and the daemons.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error, Console.IsInputRedirected ? null : Console.In);

    /// <summary>The whole program with its streams given, so tests can run it in-process.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, TextReader? input = null)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "-?" or "help")
        {
            output.Write(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] is "--version" or "-v" or "version")
        {
            output.WriteLine($"virttools {typeof(Program).Assembly.GetName().Version}");
            return 0;
        }
        return args[0] switch
        {
            "-c" or "-Command" or "--command" or "-f" or "-File" or "--file" => ShellCommand.Run(args, output, error, input),
            "usbipd" => UsbIpDaemonCommand.Run(args, output, error),
            "agent" => AgentCommand.Run(args, output, error),
            _ => Fail(error, $"virttools: unknown command '{args[0]}'.\n{Usage}"),
        };
    }

    private static int Fail(TextWriter error, string message)
    {
        error.Write(message);
        return 2;
    }

    public const string Usage =
        """
        usage: virttools -c '<pipeline>'          run PowerShell with the VirtTools module imported
               virttools -f script.ps1 [args...]  run a script file
               virttools usbipd [--address A]... [--port N] [--allow CIDR]... [--root DIR]
                                                  serve exported USB devices (USB/IP) in the foreground
               virttools agent --config FILE [--root DIR] [--interval S]
                                                  keep a host profile true (exports, attachments,
                                                  passthrough, KSM); SIGHUP reloads it
               virttools --version

        Examples:
               virttools -c 'Get-UsbDevice'
               virttools -c 'Get-PciDevice -Class 0x0200 | Get-IommuGroup'
               VIRTTOOLS_ROOT=/srv/capture virttools -c 'Get-UsbIpPort -InUse'

        """;
}
