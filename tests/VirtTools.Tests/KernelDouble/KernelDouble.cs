global using KernelWrite = VirtTools.Sandbox.KernelWrite;
global using PciBusDouble = VirtTools.Sandbox.SandboxPciBus;
global using UsbIpDouble = VirtTools.Sandbox.SandboxUsbIp;
using VirtTools.Sandbox;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;

namespace VirtTools.Tests.KernelDouble;

/// <summary>
/// The product's sandbox kernel (<see cref="SandboxKernel"/>) on a test's tree: the tree is made a sandbox, so every
/// write the engine makes under it, through cmdlets and -Root strings too, gets the kernel's semantics. Disposing
/// deletes a tree the double made itself.
/// </summary>
public sealed class KernelDouble : IDisposable
{
    private readonly VirtHostSandbox _sandbox;
    private readonly bool _ownsTree;

    /// <summary>Puts the double behind an existing tree (a fixture copy or a synthetic tree).</summary>
    public KernelDouble(TemporaryTree tree) : this(tree, ownsTree: false) { }

    private KernelDouble(TemporaryTree tree, bool ownsTree)
    {
        Tree = tree;
        _ownsTree = ownsTree;
        _sandbox = VirtHostSandbox.Adopt(tree.Path, "test:" + tree.Path);
        Kernel = _sandbox.Kernel;
    }

    /// <summary>A private copy of the captured Debian 6.1 tree with the kernel's write semantics on top; disposing deletes it.</summary>
    public static KernelDouble OnCapturedFixture() => new(CapturedFixture.CreateCopy(), ownsTree: true);

    /// <summary>An empty synthetic tree to build a topology in with <see cref="Pci"/> and <see cref="Usb"/>.</summary>
    public static KernelDouble OnEmptyTree() => new(new TemporaryTree("kernel-double"), ownsTree: true);

    public TemporaryTree Tree { get; }

    /// <summary>The sandbox kernel the engine writes through.</summary>
    public SandboxKernel Kernel { get; }

    public SystemRoot Root => Kernel.Root;

    /// <summary>The path to give -Root or $env:VIRTTOOLS_ROOT.</summary>
    public string RootPath => Tree.Path;

    public SandboxPciBus Pci => Kernel.Pci;

    public SandboxUsbIp Usb => Kernel.Usb;

    public SandboxKsm Ksm => Kernel.Ksm;

    /// <summary>Every write the engine attempted, in order, failed ones included.</summary>
    public IReadOnlyList<KernelWrite> Writes => Kernel.Writes;

    /// <summary>Makes the <paramref name="nth"/> write (1 = the next one) to <paramref name="systemPath"/> fail with <paramref name="errno"/>, changing nothing.</summary>
    public KernelDouble FailWrite(string systemPath, KernelErrno errno, int nth = 1)
    {
        Kernel.FailWrite(systemPath, errno, nth);
        return this;
    }

    /// <summary>A write as the engine makes it: through the root's writer.</summary>
    public void Write(string systemPath, string text) => Root.Writer.Write(systemPath, text);

    /// <summary>The exception .NET raises when write(2) fails with <paramref name="errno"/>.</summary>
    public static Exception Errno(KernelErrno errno, string what) => SandboxKernel.Errno(errno, what);

    public void Dispose()
    {
        if (_ownsTree)
        {
            _sandbox.Remove();
            Tree.Dispose();
        }
        else
        {
            SandboxKernel.Forget(Tree.Path);
            File.Delete(Path.Combine(Tree.Path, SandboxMarker.FileName));
        }
    }
}
