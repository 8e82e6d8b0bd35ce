"""empiar-validate: check a cryo-EM dataset against EMPIAR before deposition.

Heavy libraries (h5py, tifffile, mrcfile, pyschematron) are imported lazily by the modules that
need them, so importing this package is cheap.
"""

__version__ = "0.1.0"
