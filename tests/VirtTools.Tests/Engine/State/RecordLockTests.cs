using System.Diagnostics;
using VirtTools.Diagnostics;
using VirtTools.Pci;
using VirtTools.State;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using VirtTools.UsbIp.Host;
using Xunit;

namespace VirtTools.Tests.Engine.State;

/// <summary>
/// Issue 14, item 5: the record store's read-modify-write holds one lock, so writers racing in threads or in separate
/// processes (the agent and a shell) lose none of each other's records, and a lock held too long is a clear error.
/// </summary>
public sealed class RecordLockTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private readonly TemporaryTree _tree = new("record-lock");

    private SystemRoot Root => new(_tree.Path);

    [Fact]
    public void Eight_threads_saving_at_once_lose_no_record()
    {
        const int Threads = 8, Each = 25;
        using var start = new Barrier(Threads);
        var writers = Enumerable.Range(1, Threads).Select(t => new Thread(() =>
        {
            var store = UsbIpExportRecord.Store(Root);
            start.SignalAndWait(Deadline);
            for (int i = 1; i <= Each; i++) store.Save(new UsbIpExportRecord { BusId = $"{t}-{i}", OriginalDriver = "usb" });
        })).ToList();
        writers.ForEach(w => w.Start());
        Assert.All(writers, w => Assert.True(w.Join(Deadline)));
        Assert.Equal(Threads * Each, UsbIpExportRecord.Store(Root).Load().Count);
    }

    [Fact]
    public void Threads_persisting_functions_at_once_leave_every_one_in_the_state_file_and_in_modprobe_d()
    {
        const int Threads = 8;
        using var start = new Barrier(Threads);
        var writers = Enumerable.Range(1, Threads).Select(t => new Thread(() =>
        {
            var record = new PassthroughRecord
            {
                Address = $"0000:0{t}:00.0", Driver = "vfio-pci", OriginalDriver = "nvme", VendorId = "144d", DeviceId = $"a80{t}", Persisted = true,
            };
            start.SignalAndWait(Deadline);
            new PassthroughStateStore(Root).Commit(new[] { record }, Array.Empty<string>(), new[] { "vfio-pci" });
        })).ToList();
        writers.ForEach(w => w.Start());
        Assert.All(writers, w => Assert.True(w.Join(Deadline)));
        Assert.Equal(Threads, new PassthroughStateStore(Root).Load().Count);
        var options = _tree.Read(ModprobePersistence.FilePath("vfio-pci"))!.Split('\n').Single(l => l.StartsWith("options ", StringComparison.Ordinal));
        Assert.Equal("options vfio-pci ids=" + string.Join(",", Enumerable.Range(1, Threads).Select(t => $"144d:a80{t}")), options);
    }

    [Fact]
    public void Two_processes_saving_at_once_lose_no_record()
    {
        const int Each = 40;
        var children = new[] { 1, 2 }.Select(bus => Virttools(
            $"$s = [VirtTools.UsbIp.Host.UsbIpExportRecord]::Store([VirtTools.Sysfs.SystemRoot]::new('{_tree.Path}')); " +
            $"foreach ($i in 1..{Each}) {{ $s.Save([VirtTools.UsbIp.Host.UsbIpExportRecord]@{{ BusId = \"{bus}-$i\"; OriginalDriver = 'usb' }}) }}")).ToList();
        foreach (var child in children) Finish(child);
        var records = UsbIpExportRecord.Store(Root).Load();
        Assert.Equal(2 * Each, records.Count);
        Assert.Contains("1-40", records.Keys);
        Assert.Contains("2-40", records.Keys);
    }

    [Fact]
    public void A_lock_another_process_holds_past_the_timeout_is_StateFileLocked_and_the_records_stay()
    {
        var store = new JsonRecordStore<UsbIpExportRecord>(Root, UsbIpExportRecord.SystemPath, r => r.BusId, r => r.Problem(),
            "UsbIpExportStateCorrupt", "UsbIpExportRecordInvalid", "-") { LockTimeout = TimeSpan.FromMilliseconds(300) };
        store.Save(new UsbIpExportRecord { BusId = "1-1" });
        var lockFile = _tree.Resolve(UsbIpExportRecord.SystemPath + ".lock");
        using var holder = Process.Start(new ProcessStartInfo("flock", new[] { "-x", lockFile, "-c", "echo held; exec sleep 600" })
        {
            RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false,
        })!;
        try
        {
            Assert.Equal("held", holder.StandardOutput.ReadLine());
            var error = Assert.Throws<VirtToolsException>(() => store.Save(new UsbIpExportRecord { BusId = "1-2" }));
            Assert.Equal(StateErrors.LockTimeoutId, error.ErrorId);
            Assert.Equal(FailureKind.ResourceBusy, error.Kind);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            Assert.True(holder.WaitForExit(Deadline));
        }
        store.Save(new UsbIpExportRecord { BusId = "1-2" });
        Assert.Equal(new[] { "1-1", "1-2" }, store.Load().Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>Runs `virttools -c script` with the umask <paramref name="umask"/>.</summary>
    internal static Process Virttools(string script, string umask = "022")
    {
        var launcher = Path.Combine(RepositoryPaths.Root, "out", "virttools");
        return Process.Start(new ProcessStartInfo("/bin/sh", new[] { "-c", $"umask {umask} && exec \"$0\" -c \"$1\"", launcher, script })
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        })!;
    }

    internal static void Finish(Process child)
    {
        using (child)
        {
            var error = child.StandardError.ReadToEndAsync();
            var output = child.StandardOutput.ReadToEndAsync();
            if (!child.WaitForExit(Deadline)) child.Kill(entireProcessTree: true);
            Assert.True(child.HasExited && child.ExitCode == 0, $"exit {(child.HasExited ? child.ExitCode : -1)}: {output.Result}{error.Result}");
        }
    }

    public void Dispose() => _tree.Dispose();
}
