using System.Net.Sockets;
using System.Text;
using VirtTools.Diagnostics;
using VirtTools.Sandbox;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// A removal asked for by another process reaches the keeper that holds the port's claim, through its control socket
/// under the root, on the captured tree with the sandbox behind it: 1-2 is a tablet the keeper exports on a reserved
/// port, 2-3 a stick exported by hand. The caller is this process, as another shell would be.
/// </summary>
public sealed class ClaimedPortControlTests : IDisposable
{
    private static readonly UsbBusId Tablet = UsbBusId.Parse("1-2");
    private readonly Double _kernel = Double.OnCapturedFixture();
    private readonly List<string> _log = new();
    private readonly ClaimedPortKeeper _keeper;
    private readonly ClaimedPortControlListener _listener;

    public ClaimedPortControlTests()
    {
        _keeper = new ClaimedPortKeeper(_kernel.Root, line => { lock (_log) _log.Add(line); });
        _keeper.Reserve(new[] { Tablet });
        _keeper.Reconcile();
        _listener = ClaimedPortControlListener.TryStart(_kernel.Root, _keeper, line => { lock (_log) _log.Add(line); })
            ?? throw new InvalidOperationException(string.Join("\n", _log));
    }

    private UsbDevice Device(UsbBusId busId) => new UsbDeviceReader(_kernel.Root).Find(busId)!;

    /// <summary>A socket's address through its open folder: the temporary root's own path is longer than an address may be.</summary>
    private static UnixDomainSocketEndPoint Address(StateFolder folder, string path) => new(folder.ShortPath(Path.GetFileName(path)));

    private static string Exchange(string path, byte[] request)
    {
        using var folder = StateFolder.Open(Path.GetDirectoryName(path)!);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 30_000 };
        socket.Connect(Address(folder, path));
        socket.Send(request);
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            for (int n; (n = socket.Receive(buffer)) > 0;) answer.Write(buffer, 0, n);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { }
        return Encoding.UTF8.GetString(answer.ToArray());
    }

    [Fact]
    public void The_keeper_listens_on_a_socket_named_after_its_process_in_the_roots_run_virttools_that_only_its_owner_may_open()
    {
        // usbipd-PID.sock for a process's first keeper, usbipd-PID-N.sock for the next (this process runs many).
        Assert.Equal(_kernel.Root.ResolveForWrite("/run/virttools"), Path.GetDirectoryName(_listener.SocketPath));
        Assert.Matches($"^usbipd-{Environment.ProcessId}(-[0-9]+)?\\.sock$", Path.GetFileName(_listener.SocketPath));
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Linux file modes.");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_listener.SocketPath));
    }

    [Fact]
    public void A_removal_from_another_process_is_done_by_the_keeper_so_the_port_is_claimed_again_before_the_reprobe()
    {
        Assert.Equal("usbip-host", Device(Tablet).Driver);

        Assert.Equal(Environment.ProcessId, ClaimedPortControl.TryUnexport(_kernel.Root, Tablet));

        var tablet = Device(Tablet);
        Assert.Equal("usb", tablet.Driver);
        Assert.Null(tablet.Configuration);
        Assert.Empty(tablet.InterfaceDrivers);
        Assert.Equal(new[] { new HubPort(UsbBusId.Parse("usb1"), 2) }, _kernel.Kernel.HubPorts.Claimed);
        _keeper.Reconcile();
        Assert.Equal("usb", Device(Tablet).Driver); // not exported again: the removal was asked for
        Assert.Contains(_log, line => line.Contains("at the request of another process", StringComparison.Ordinal));
    }

    [Fact]
    public void A_port_no_keeper_reserves_is_left_to_the_caller()
    {
        var stick = UsbBusId.Parse("2-3");
        Assert.Null(ClaimedPortControl.TryUnexport(_kernel.Root, stick));
        Assert.Equal("usbip-host", Device(stick).Driver);
    }

    [Fact]
    public void The_keepers_refusal_comes_back_with_its_ErrorId_and_category()
    {
        _kernel.FailWrite("/sys/bus/usb/drivers/usbip-host/unbind", KernelErrno.EACCES);
        var failure = Assert.IsAssignableFrom<VirtToolsException>(Record.Exception(() => ClaimedPortControl.TryUnexport(_kernel.Root, Tablet)));
        Assert.Equal(("PermissionDenied", FailureKind.PermissionDenied, (object?)Tablet), (failure.ErrorId, failure.Kind, failure.Target));
        Assert.Contains("Removing the export of '1-2' failed", failure.Message);
        Assert.False(string.IsNullOrWhiteSpace(failure.RecommendedAction));
    }

    [Fact]
    public void A_socket_left_by_a_keeper_that_ended_is_skipped()
    {
        var stale = ClaimedPortControl.SocketPath(_kernel.Root, 999_999);
        using (var folder = StateFolder.Open(Path.GetDirectoryName(stale)!))
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            socket.Bind(Address(folder, stale)); // bound, never listened on, closed: connect is refused
        Assert.Equal(Environment.ProcessId, ClaimedPortControl.TryUnexport(_kernel.Root, Tablet));
    }

    [Fact]
    public void Requests_it_does_not_know_or_that_never_end_get_an_answer_or_a_hang_up_and_the_listener_goes_on()
    {
        Assert.StartsWith("failed UsbIpUnexportFailed ProtocolError\t", Exchange(_listener.SocketPath, "hello\n"u8.ToArray()));
        Assert.StartsWith("failed UsbIpUnexportFailed ProtocolError\t", Exchange(_listener.SocketPath, "unexport ../../x\n"u8.ToArray()));
        Assert.Equal("", Exchange(_listener.SocketPath, new byte[ClaimedPortControl.MaxLineBytes + 100]));

        Assert.Equal(Environment.ProcessId, ClaimedPortControl.TryUnexport(_kernel.Root, Tablet));
    }

    [Fact]
    public void Stopping_the_listener_removes_its_socket()
    {
        _listener.Dispose();
        Assert.False(File.Exists(_listener.SocketPath));
        Assert.Null(ClaimedPortControl.TryUnexport(_kernel.Root, Tablet));
        Assert.Equal("usbip-host", Device(Tablet).Driver);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _keeper.Dispose();
        _kernel.Dispose();
    }
}
