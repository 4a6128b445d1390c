"""Inference: the loader (decode once, overlapped with compute), N models in one pass, and the
engines (local threads, Ray). `run_models` is the local engine; `run_engine` picks one."""
from core.inference.options import run_engine
from core.run_options import InferenceOptions, add_inference_args, options_from_args
from core.inference.runner import ModelOutput, Progress, check_precision, pick_device, run_models

__all__ = ["InferenceOptions", "ModelOutput", "Progress", "add_inference_args", "check_precision",
           "options_from_args", "pick_device", "run_engine", "run_models"]
