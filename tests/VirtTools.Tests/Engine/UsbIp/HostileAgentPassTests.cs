using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.UsbIp;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// The agent's boundary (issue 14): whatever an applier or a pass throws, the pass returns, the failure is logged,
/// and it is retried under the backoff. Only the caller's cancellation passes through.
/// </summary>
public sealed class HostileAgentPassTests : IDisposable
{
    private const string Profile = "usbip:\n  attachments:\n    - computerName: 127.0.0.1\n      match: { busId: \"2-3\" }\n      reconnect: true\n";

    private readonly Double _kernel = Double.OnEmptyTree();
    private readonly Clock _clock = new();
    private readonly List<string> _log = new();

    public HostileAgentPassTests() => _kernel.Usb.AddVhci(controllers: 1, portsPerHub: 2);

    private VirtHostAgent Agent(IUsbIpAttachmentApplier attacher)
    {
        var agent = new VirtHostAgent(_kernel.Root, new NoExports(), attacher, _log.Add, _clock);
        agent.Load(VirtHostConfigParser.Parse(Profile, "agent.yaml", _kernel.RootPath));
        return agent;
    }

    [Fact]
    public void An_applier_that_throws_what_no_applier_should_fails_its_item_which_is_retried_under_the_backoff()
    {
        // As WireWriter did when a server's 32-byte bus id was sent back in an import request.
        var attacher = new Throwing(() => new ArgumentException("The busid '11111111111111111111111111111111' does not fit the protocol's 32-byte field."));
        var agent = Agent(attacher);
        var item = Assert.Single(agent.Pass());
        Assert.Equal((SyncOutcome.Failed, ConfigErrors.UnexpectedFailureId), (item.Outcome, item.Error?.ErrorId));
        Assert.Equal(1, attacher.Calls);
        Assert.Contains(_log, line => line.StartsWith("failed: ", StringComparison.Ordinal)
            && line.Contains("ArgumentException: The busid", StringComparison.Ordinal) && line.EndsWith("(next try in 1 s)", StringComparison.Ordinal));

        _clock.Advance(TimeSpan.FromSeconds(0.5));
        agent.Pass();
        Assert.Equal(1, attacher.Calls); // not due
        _clock.Advance(TimeSpan.FromSeconds(0.5));
        agent.Pass();
        Assert.Equal(2, attacher.Calls);
        Assert.Contains(_log, line => line.EndsWith("(next try in 2 s)", StringComparison.Ordinal));
        Assert.DoesNotContain(_log, line => line.StartsWith("pass failed: ", StringComparison.Ordinal));
    }

    [Fact]
    public void The_callers_cancellation_still_ends_a_pass()
    {
        using var stopping = new CancellationTokenSource();
        var attacher = new Throwing(() =>
        {
            stopping.Cancel();
            return new OperationCanceledException(stopping.Token);
        });
        Assert.Throws<OperationCanceledException>(() => Agent(attacher).Pass(stopping.Token));
    }

    [Fact]
    public void The_shipped_appliers_turn_anything_unexpected_into_a_failure_naming_the_item()
    {
        var error = Assert.Throws<VirtToolsException>(() => ApplierBoundary.Run("Attaching busId 2-3 from 192.0.2.1:3240", "192.0.2.1", CancellationToken.None,
            () => throw new ArgumentException("The busid does not fit.")));
        Assert.Equal((ConfigErrors.UnexpectedFailureId, FailureKind.OperationFailed, "192.0.2.1"), (error.ErrorId, error.Kind, error.Target));
        Assert.Equal("Attaching busId 2-3 from 192.0.2.1:3240 failed unexpectedly: ArgumentException: The busid does not fit.", error.Message);
        Assert.IsType<ArgumentException>(error.InnerException);

        var refused = new VirtToolsException("UsbIpDeviceBusy", FailureKind.ResourceBusy, "busy");
        Assert.Same(refused, Assert.Throws<VirtToolsException>(() => ApplierBoundary.Run("x", null, CancellationToken.None, () => throw refused)));
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();
        Assert.Throws<OperationCanceledException>(() => ApplierBoundary.Run("x", null, stopping.Token, () => stopping.Token.ThrowIfCancellationRequested()));
    }

    public void Dispose() => _kernel.Dispose();

    private sealed class Throwing(Func<Exception> failure) : IUsbIpAttachmentApplier
    {
        public Func<Exception>? Failure { get; set; } = failure;

        public int Calls { get; private set; }

        public void Attach(SystemRoot root, UsbIpAttachmentRule rule, CancellationToken cancellation)
        {
            Calls++;
            if (Failure is { } failure) throw failure();
        }
    }

    private sealed class NoExports : IUsbIpExportApplier
    {
        public void Export(SystemRoot root, VirtTools.Usb.UsbBusId busId, CancellationToken cancellation) => throw new InvalidOperationException("no exports in this profile");
    }

    private sealed class Clock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
