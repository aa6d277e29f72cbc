using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Protocol;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Tls;

namespace VirtTools.Host.Commands;

/// <summary>
/// `virttools usbipd [--address A]... [--port N] [--allow CIDR]... [--tls-certificate F --tls-key F [--client-ca F]
/// [--require-tls]] [--root DIR]`: the managed USB/IP server in the foreground, for systemd. Logs to stderr, stops cleanly on SIGTERM or SIGINT.
/// </summary>
internal static class UsbIpDaemonCommand
{
    public const string Usage =
        """
        usage: virttools usbipd [--address A]... [--port N] [--allow ADDR|CIDR|any]... [--claim-port BUSID]... [--dead-peer-timeout S]
                                [--tls-certificate FILE --tls-key FILE [--client-ca FILE [--grant ID=MATCH]...]
                                [--require-tls]] [--root DIR]
          --address A   listen on this address (repeatable); default: loopback only (127.0.0.1 and ::1)
          --port N      TCP port (default 3240; 0 picks a free one)
          --allow X     clients that may list and import (repeatable): an address, or a network with no
                        host bits set (10.0.0.0/8); default: loopback only
          --claim-port BUSID
                        reserve the port a device with this bus id (1-2.3) is plugged into for sharing (repeatable): it
                        is held claimed so no host driver takes a device there, and that device is exported. The ports
                        of exported devices are held the same way while their device is unplugged.
          --dead-peer-timeout S
                        free a device whose client vanished without a word after S seconds (5 to 43200; default 60)
          --tls-certificate FILE, --tls-key FILE
                        also serve TLS on the port (PEM certificate, chain after it, and its key); imports over
                        TLS are relayed by this process to usbip-host
          --client-ca FILE
                        TLS clients must present a certificate signed by this CA (PEM)
          --grant IDENTITY=MATCH
                        with --client-ca: the client whose certificate has this identity (subject, CN, DNS
                        name or sha256:HEX fingerprint) may list and import devices that match (VID:PID, bus
                        id, serial, or *); repeatable. With grants, a client without one gets nothing.
          --require-tls refuse plain USB/IP (stock usbip clients): TLS clients only
          --root DIR    read /sys under DIR instead of / (a captured tree)

        """;

    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken? stop = null)
    {
        if (!TryParse(args, error, out var options, out var root, out var deadPeer, out var claimPorts)) return 2;
        using var stopping = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var external = stop?.Register(stopping.Cancel);
        UsbIpServer server;
        try
        {
            server = UsbIpServer.Start(CachedExportedDeviceSource.For(root, options.Log), new SysfsSocketHandoff(root, deadPeer), options);
        }
        catch (VirtToolsException failure)
        {
            error.WriteLine($"virttools usbipd: {failure.Message} [{failure.ErrorId}]");
            if (failure.RecommendedAction is { } action) error.WriteLine($"  Fix: {action}");
            return 1;
        }
        output.WriteLine($"virttools usbipd: listening on port {server.TcpPort}");
        output.Flush();
        var keeper = new ClaimedPortKeeper(root, options.Log!);
        try
        {
            keeper.Reserve(claimPorts);
            keeper.Start();
            stopping.Token.WaitHandle.WaitOne();
        }
        finally
        {
            // Ports first: a device left unconfigured by a claim is handed back while the process can still write.
            keeper.Dispose();
            server.StopAsync().GetAwaiter().GetResult();
        }
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // we stop ourselves, cleanly
            stopping.Cancel();
        }
    }

    private static bool TryParse(string[] args, TextWriter error, out UsbIpServerOptions options, out SystemRoot root,
        out UsbIpDeadPeerPolicy deadPeer, out List<UsbBusId> claimPorts)
    {
        deadPeer = UsbIpDeadPeerPolicy.Default;
        claimPorts = new List<UsbBusId>();
        var addresses = new List<IPAddress>();
        var allowed = new List<string>();
        var port = UsbIpProtocol.DefaultTcpPort;
        string? rootPath = null, certificate = null, key = null, clientCa = null;
        var requireTls = false;
        var grants = new List<string>();
        options = new UsbIpServerOptions();
        root = SystemRoot.Live;
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                error.Write(Usage);
                return false;
            }
            if (name == "--require-tls")
            {
                requireTls = true;
                continue;
            }
            if (i + 1 >= args.Length) return Fail(error, $"{name} needs a value.");
            var value = args[++i];
            switch (name)
            {
                case "--address" or "-a":
                    if (IPAddressText.Parse(value, out var problem) is not { } address) return Fail(error, $"--address {problem}.");
                    addresses.Add(address);
                    break;
                case "--port" or "-p" or "--tcp-port" or "-t":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
                        return Fail(error, $"'{value}' is not a TCP port.");
                    break;
                case "--allow":
                    allowed.Add(value);
                    break;
                case "--claim-port":
                    if (!UsbBusId.TryParse(value, out var claimed) || claimed.IsRootHub) return Fail(error, $"--claim-port '{value}' is not a device bus id such as 1-2 or 1-2.3.");
                    if (claimPorts.Count >= ProfileLimits.MaxClaimPorts) return Fail(error, $"at most {ProfileLimits.MaxClaimPorts} --claim-port (usbip-host shares no more at once).");
                    claimPorts.Add(claimed);
                    break;
                case DeadPeerOption.Name:
                    if (!DeadPeerOption.TryParse(value, ref deadPeer, out var timeoutProblem)) return Fail(error, timeoutProblem);
                    break;
                case "--root":
                    rootPath = value;
                    break;
                case "--tls-certificate":
                    certificate = value;
                    break;
                case "--tls-key":
                    key = value;
                    break;
                case "--client-ca":
                    clientCa = value;
                    break;
                case "--grant":
                    grants.Add(value);
                    break;
                default:
                    return Fail(error, $"unknown option '{name}'.");
            }
        }
        try
        {
            root = SystemRoot.FromParameter(rootPath);
            if (!root.IsLive && !Directory.Exists(root.Path)) return Fail(error, $"the root folder '{root.Path}' does not exist.");
            options = new UsbIpServerOptions
            {
                Addresses = addresses,
                TcpPort = port,
                AllowedClients = allowed.Count == 0 ? ClientAllowList.LoopbackOnly : ClientAllowList.Parse(allowed),
                Log = line => error.WriteLine("virttools usbipd: " + line),
                Root = root.Path,
                Tls = UsbIpTlsServerSettings.From(certificate, key, clientCa, requireTls, ("--tls-certificate", "--tls-key", "--client-ca", "--require-tls"),
                    grants.Select(UsbIpGrant.Parse).ToList()),
            };
            return true;
        }
        catch (VirtToolsException failure)
        {
            var fix = failure.RecommendedAction is { } action ? $"{Environment.NewLine}  Fix: {action}" : "";
            return Fail(error, $"{failure.Message} [{failure.ErrorId}]{fix}");
        }
    }

    private static bool Fail(TextWriter error, string message)
    {
        error.WriteLine("virttools usbipd: " + message);
        error.Write(Usage);
        return false;
    }
}
