using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Tls;

namespace VirtTools.Host.Commands;

/// <summary>
/// `virttools agent --config FILE [--root DIR] [--interval SECONDS]`: keeps a host profile true, for systemd. Serves
/// the profile's exports (the managed usbipd) when it has a usbip.server section, runs a <see cref="VirtHostAgent"/>
/// pass every interval, reloads the profile on SIGHUP (a broken or hostile file is reported with its position and the
/// old profile kept), and stops cleanly on SIGTERM or SIGINT, within a bounded grace. Logs to stderr.
/// </summary>
internal static class AgentCommand
{
    /// <summary>How long a clean stop may take after SIGTERM or SIGINT (systemd's own limit is 90 s).</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    /// <summary>The exit code of a stop that had to leave a pass behind (a clean stop exits 0).</summary>
    private const int StuckExitCode = 3;

    public const string Usage =
        """
        usage: virttools agent --config FILE [--root DIR] [--interval SECONDS] [--dead-peer-timeout SECONDS]
          --config FILE     the host profile (YAML, see about_VirtTools_HostProfile)
          --root DIR        read and write /sys, /run... under DIR instead of / (a captured tree)
          --interval S      seconds between passes (default 2)
          --dead-peer-timeout S
                            free an export or a vhci port whose peer vanished without a word after S seconds
                            (5 to 43200; default 60; the profile's usbip.deadPeerTimeout comes first)
        SIGHUP reloads the profile (a bad one is logged and the old one kept);
        SIGTERM or SIGINT stops: exit 0, or 3 when a pass would not stop within 10 s.

        """;

    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken? stop = null)
    {
        if (!TryParse(args, error, out var path, out var root, out var interval, out var deadPeer)) return 2;
        void Log(string line)
        {
            lock (error) { error.WriteLine("virttools agent: " + line); error.Flush(); }
        }

        using var stopping = new CancellationTokenSource();
        using var wake = new SemaphoreSlim(0);
        var reload = 0;
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Interlocked.Exchange(ref reload, 1);
            wake.Release();
        });
        using var external = stop?.Register(stopping.Cancel);

        VirtHostConfig config;
        try { config = VirtHostConfigParser.Load(path, root.Path, stopping.Token); }
        catch (VirtToolsException failure)
        {
            Log($"{failure.Message} [{failure.ErrorId}]");
            return 1;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Log("stopped");
            return 0;
        }

        var agent = new VirtHostAgent(root, new UsbIpExportApplier(), new UsbIpAttachmentApplier { DeadPeer = deadPeer }, Log,
            containers: VirtTools.UsbIp.Containers.ContainerManager.For(root));
        var server = new AgentServer(root, deadPeer, Log);
        // A TLS attachment's relay ends when its server or vhci_hcd closes: said, so the re-attach that follows has a cause.
        void RelayEnded(string device, UsbIpRelayEnd end) => Log($"TLS relay for {device} ended: {end.Reason}.");
        UsbIpClientRelays.Ended += RelayEnded;
        try
        {
            Apply(config);
            output.WriteLine($"virttools agent: keeping {path} true, a pass every {interval.TotalSeconds:0.#} s");
            output.Flush();
            while (!stopping.IsCancellationRequested)
            {
                agent.Pass(stopping.Token);
                try { wake.Wait(interval, stopping.Token); }
                catch (OperationCanceledException) { break; }
                if (Interlocked.Exchange(ref reload, 0) == 1) Reload();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
        finally
        {
            UsbIpClientRelays.Ended -= RelayEnded;
            server.Dispose();
        }
        Log("stopped");
        return 0;

        void Apply(VirtHostConfig profile)
        {
            server.Serve(profile.UsbIp?.Server, profile.UsbIp?.DeadPeer);
            agent.Load(profile);
        }

        void Reload()
        {
            try
            {
                Apply(VirtHostConfigParser.Load(path, root.Path, stopping.Token));
                Log($"reloaded {path}");
            }
            catch (VirtToolsException failure)
            {
                Log($"kept the profile in force: {failure.Message} [{failure.ErrorId}]");
            }
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // we stop ourselves, cleanly
            stopping.Cancel();
            // Cancellation reaches the parse and the pass; should a pass still not return (a call that ignores its
            // token), systemd must not wait for its SIGKILL: after a grace the process leaves without the clean stop.
            // A clean stop returns from Main first, and the pending delay (a background thread) goes with the process.
            Task.Delay(StopGrace).ContinueWith(_ =>
            {
                Log($"did not stop within {StopGrace.TotalSeconds:0} s of {context.Signal}; exiting without a clean stop");
                Environment.Exit(StuckExitCode);
            }, TaskScheduler.Default);
        }
    }

    private static bool TryParse(string[] args, TextWriter error, out string path, out SystemRoot root, out TimeSpan interval,
        out UsbIpDeadPeerPolicy deadPeer)
    {
        deadPeer = UsbIpDeadPeerPolicy.Default;
        path = "";
        root = SystemRoot.Live;
        interval = TimeSpan.FromSeconds(2);
        string? rootPath = null;
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help") { error.Write(Usage); return false; }
            if (i + 1 >= args.Length) return Fail(error, $"{name} needs a value.");
            var value = args[++i];
            switch (name)
            {
                case "--config" or "-c": path = value; break;
                case "--root": rootPath = value; break;
                case "--interval":
                    if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) || seconds < 0.1 || seconds > 3600)
                        return Fail(error, $"'{value}' is not an interval in seconds (0.1 to 3600).");
                    interval = TimeSpan.FromSeconds(seconds);
                    break;
                case DeadPeerOption.Name:
                    if (!DeadPeerOption.TryParse(value, ref deadPeer, out var problem)) return Fail(error, problem);
                    break;
                default: return Fail(error, $"unknown option '{name}'.");
            }
        }
        if (path.Length == 0) return Fail(error, "--config FILE is required.");
        try
        {
            root = SystemRoot.FromParameter(rootPath);
        }
        catch (VirtToolsException failure)
        {
            return Fail(error, failure.Message);
        }
        if (!root.IsLive && !Directory.Exists(root.Path)) return Fail(error, $"the root folder '{root.Path}' does not exist.");
        return true;
    }

    private static bool Fail(TextWriter error, string message)
    {
        error.WriteLine("virttools agent: " + message);
        error.Write(Usage);
        return false;
    }

    /// <summary>The managed usbipd the profile's usbip.server section asks for, restarted when a reload changes it.</summary>
    /// <remarks>
    /// While it serves, a <see cref="ClaimedPortKeeper"/> holds the profile's claimPorts and the ports of exported
    /// devices; a reload changes its ports without restarting the server.
    /// </remarks>
    private sealed class AgentServer(SystemRoot root, UsbIpDeadPeerPolicy deadPeer, Action<string> log) : IDisposable
    {
        private UsbIpServer? _server;
        private ClaimedPortKeeper? _keeper;
        private string? _settings;

        /// <param name="profile">usbip.server; null serves nothing.</param>
        /// <param name="profileDeadPeer">usbip.deadPeerTimeout, which comes before --dead-peer-timeout; null when the profile leaves it out.</param>
        public void Serve(UsbIpServerProfile? profile, UsbIpDeadPeerPolicy? profileDeadPeer)
        {
            var handoffDeadPeer = profileDeadPeer ?? deadPeer;
            var settings = profile is null ? null
                : $"{string.Join(",", profile.Address)} {profile.TcpPort} {string.Join(",", profile.Allow)} {profile.Tls} {string.Join(";", profile.Grants)} {handoffDeadPeer}";
            if (settings == _settings)
            {
                _keeper?.Reserve(profile?.ClaimPorts ?? Array.Empty<UsbBusId>());
                return;
            }
            Dispose();
            _settings = settings;
            if (profile is null) return;
            try
            {
                _server = UsbIpServer.Start(CachedExportedDeviceSource.For(root, line => log("usbipd: " + line)), new SysfsSocketHandoff(root, handoffDeadPeer), new UsbIpServerOptions
                {
                    Addresses = profile.Address.Select(IPAddress.Parse).ToList(),
                    TcpPort = profile.TcpPort,
                    AllowedClients = profile.Allow.Count == 0 ? ClientAllowList.LoopbackOnly : ClientAllowList.Parse(profile.Allow),
                    Log = line => log("usbipd: " + line),
                    Root = root.Path,
                    Tls = UsbIpTlsServerSettings.From(profile.Tls?.Certificate, profile.Tls?.Key, profile.Tls?.ClientCa, profile.Tls?.Require ?? false,
                            ("usbip.server.tls.certificate", "usbip.server.tls.key", "usbip.server.tls.clientCa", "usbip.server.tls.require"), profile.Grants),
                });
            }
            catch (VirtToolsException failure)
            {
                _settings = null; // try again on the next reload
                log($"cannot serve exports: {failure.Message} [{failure.ErrorId}]");
                return;
            }
            _keeper = new ClaimedPortKeeper(root, line => log("usbipd: " + line));
            _keeper.Reserve(profile.ClaimPorts);
            _keeper.Start();
        }

        public void Dispose()
        {
            _keeper?.Dispose();
            _keeper = null;
            _server?.StopAsync().GetAwaiter().GetResult();
            _server = null;
            _settings = null;
        }
    }
}
